include:
  - nosuch
m:
  test.nop
