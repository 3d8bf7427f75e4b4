x1:
  test.nop
x2:
  test.nop
