b:
  file.blockreplace:
    - name: @ROOT@/work/f.conf
    - marker_start: "#<"
    - marker_end: "#>"
    - content: secret
    - show_changes: False
    - backup: False
