include:
  - inc_three
two_state:
  test.succeed_without_changes
