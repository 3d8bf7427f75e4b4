lonely:
  file.accumulated:
    - name: nobody-listens
    - filename: @ROOT@/work/x
    - text: hello
