p:
  file.prepend:
    - name: @ROOT@/work/f.conf
    - text: "# header"
