conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: new
    - backup: minion
