lib_one:
  test.succeed_without_changes
lib_last:
  test.succeed_without_changes:
    - order: last
