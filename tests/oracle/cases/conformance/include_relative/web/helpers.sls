web_helpers:
  test.succeed_without_changes
