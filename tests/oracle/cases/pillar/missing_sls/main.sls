show:
  test.nop
