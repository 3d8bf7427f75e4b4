config_file:
  test.succeed_with_changes:
    - name: /etc/app.conf
by_name:
  test.succeed_without_changes:
    - watch:
      - /etc/app.conf
by_module_name:
  test.succeed_without_changes:
    - require:
      - test: /etc/app.conf
by_module_id:
  test.succeed_without_changes:
    - onchanges:
      - test: config_file
by_bare_id:
  test.succeed_without_changes:
    - require:
      - config_file
