include:
  - roles.*
m:
  test.nop
