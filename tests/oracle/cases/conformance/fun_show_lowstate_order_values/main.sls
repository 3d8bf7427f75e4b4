plain:
  test.succeed_without_changes
explicit:
  test.succeed_without_changes:
    - order: 5
