vendor-repo-clean:
  pkgrepo.absent:
    - name: vendor-repo-that-is-not-a-line
