ra:
  test.nop
