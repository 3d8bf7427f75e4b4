kept:
  test.succeed_without_changes
