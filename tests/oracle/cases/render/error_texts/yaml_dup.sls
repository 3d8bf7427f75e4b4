a:
  test.nop:
    - x: 1
a:
  test.nop: []
