chg:
  test.succeed_with_changes
nochg:
  test.succeed_without_changes
watcher:
  test.succeed_without_changes:
    - watch:
      - test: chg
watcher_nochg:
  test.succeed_without_changes:
    - watch:
      - test: nochg
watch_any:
  test.succeed_without_changes:
    - watch_any:
      - test: chg
      - test: nochg
