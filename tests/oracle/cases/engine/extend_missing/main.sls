extend:
  ghost:
    test.nop: []
m:
  test.nop
