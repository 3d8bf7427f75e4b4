include:
  - x
  - y
exclude:
  - id: x1
  - sls: y
m:
  test.nop
