make:
  cmd.run:
    - name: touch @ROOT@/work/made
    - creates: @ROOT@/work/made
skip:
  cmd.run:
    - name: echo never
    - creates:
      - @ROOT@/work/exists
