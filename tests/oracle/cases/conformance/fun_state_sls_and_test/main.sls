changer:
  test.succeed_with_changes
