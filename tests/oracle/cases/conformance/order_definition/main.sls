zulu:
  test.succeed_without_changes
alpha:
  test.succeed_without_changes
mike:
  test.succeed_with_changes
bravo:
  test.succeed_without_changes
