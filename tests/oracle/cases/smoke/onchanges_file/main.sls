a:
  test.succeed_with_changes
b:
  test.nop:
    - onchanges:
      - test: a
c:
  file.managed:
    - name: {{ grains.tmp }}/x
    - contents: hi
