same:
  test.succeed_with_changes
