a:
  test.nop:
    - x: [1, 2
    - y: 3
