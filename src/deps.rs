//! The dependency graph: parents and children, `isbefore` links (what an
//! item blocks and what blocks it), and the open graph as Graphviz DOT.
