b:
  file.blockreplace:
    - name: @ROOT@/work/f.conf
    - marker_start: "# START managed"
    - marker_end: "# END managed"
    - content: |
        new line 1
        new line 2
