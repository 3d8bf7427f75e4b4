bad:
  test.fail_with_changes
watcher:
  test.succeed_without_changes:
    - watch:
      - test: bad
