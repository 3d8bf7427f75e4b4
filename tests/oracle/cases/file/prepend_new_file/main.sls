p:
  file.prepend:
    - name: @ROOT@/work/new.conf
    - text: first
