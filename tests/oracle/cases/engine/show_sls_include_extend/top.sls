base:
  '*':
    - main
    - lib
