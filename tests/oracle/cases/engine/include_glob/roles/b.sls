rb:
  test.succeed_with_changes
