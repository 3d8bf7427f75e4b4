web-ok:
  test.nop
