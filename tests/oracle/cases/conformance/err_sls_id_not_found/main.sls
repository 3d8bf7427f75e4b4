present:
  test.succeed_without_changes
