broken:
  test.fail_without_changes
changer:
  test.succeed_with_changes
quiet:
  test.succeed_without_changes
any_changer:
  test.succeed_without_changes:
    - watch_any:
      - test: broken
      - test: changer
all_broken:
  test.succeed_without_changes:
    - watch_any:
      - test: broken
own_changes:
  test.succeed_with_changes:
    - watch:
      - test: changer
