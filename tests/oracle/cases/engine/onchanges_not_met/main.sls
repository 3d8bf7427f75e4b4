broken:
  test.fail_with_changes
on_broken:
  test.succeed_with_changes:
    - onchanges:
      - test: broken
nochg:
  test.succeed_without_changes
on_nochg:
  test.succeed_with_changes:
    - onchanges:
      - test: nochg
chg:
  test.succeed_with_changes
on_chg:
  test.succeed_without_changes:
    - onchanges:
      - chg
