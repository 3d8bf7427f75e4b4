y1:
  test.nop
