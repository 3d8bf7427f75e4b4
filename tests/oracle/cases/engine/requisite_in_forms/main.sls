a:
  test.succeed_with_changes:
    - require_in:
      - test: b
    - watch_in:
      - test: c
    - onchanges_in:
      - d
b:
  test.succeed_without_changes
c:
  test.succeed_without_changes
d:
  test.succeed_without_changes
e:
  test.fail_without_changes:
    - onfail_in:
      - test: f
f:
  test.succeed_without_changes
