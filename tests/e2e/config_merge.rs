//! merged_node_config against tarsconfig's merge rules.
