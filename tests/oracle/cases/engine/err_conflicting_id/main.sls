include:
  - other
same:
  test.nop
