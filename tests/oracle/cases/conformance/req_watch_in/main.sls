watcher:
  test.succeed_without_changes
changer:
  test.succeed_with_changes:
    - watch_in:
      - test: watcher
