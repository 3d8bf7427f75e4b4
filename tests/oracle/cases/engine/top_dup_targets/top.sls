base:
  '*':
    - main
  'oracle':
    - main
