at_end:
  test.succeed_without_changes:
    - order: last
plain_one:
  test.succeed_without_changes
at_start:
  test.succeed_without_changes:
    - order: first
plain_two:
  test.succeed_without_changes
almost_end:
  test.succeed_without_changes:
    - order: -1
