include:
  - ..outside
