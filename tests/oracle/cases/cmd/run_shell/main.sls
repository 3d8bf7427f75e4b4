sh:
  cmd.run:
    - name: 'echo $0'
    - shell: /bin/sh
