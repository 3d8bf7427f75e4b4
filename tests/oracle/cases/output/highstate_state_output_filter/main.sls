unchanged:
  test.succeed_without_changes
changed:
  test.succeed_with_changes
failed:
  test.fail_without_changes:
    - comment: it broke
file_new:
  file.managed:
    - name: {{ grains.tmp }}/conf/app.ini
    - makedirs: True
    - contents: |
        [main]
        port = 8080
skipped:
  test.succeed_with_changes:
    - onchanges:
      - test: unchanged
