base:
  '*':
    - app
    - nothere
