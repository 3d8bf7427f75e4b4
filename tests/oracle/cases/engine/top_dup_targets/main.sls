m:
  test.nop
