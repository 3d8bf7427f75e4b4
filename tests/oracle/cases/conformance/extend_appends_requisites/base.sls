one:
  test.succeed_without_changes
two:
  test.succeed_without_changes
watcher:
  test.succeed_without_changes:
    - require:
      - test: one
