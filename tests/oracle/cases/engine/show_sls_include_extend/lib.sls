libstate:
  test.succeed_without_changes:
    - comment: plain
other:
  test:
    - nop
