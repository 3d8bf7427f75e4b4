conf:
  test.nop
