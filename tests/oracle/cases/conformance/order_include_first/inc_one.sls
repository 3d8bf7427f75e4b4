include:
  - inc_three
one_state:
  test.succeed_without_changes
