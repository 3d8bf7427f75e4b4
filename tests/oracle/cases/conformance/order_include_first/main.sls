include:
  - inc_one
  - inc_two
main_state:
  test.succeed_without_changes
