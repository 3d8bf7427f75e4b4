there:
  test.succeed_without_changes
