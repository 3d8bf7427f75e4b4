conf:
  file.managed:
    - name: @ROOT@/work/a.conf
    - contents: secret new
    - show_changes: False
