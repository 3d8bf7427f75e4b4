chg:
  test.succeed_with_changes
waiter:
  module.wait:
    - name: test.echo
    - text: hi
    - watch:
      - test: chg
idle:
  module.wait:
    - name: test.echo
    - text: hi
