u:
  cmd.run:
    - name: echo ran
    - unless: 'true'
o:
  cmd.run:
    - name: echo ran
    - onlyif: 'false'
